#!/usr/bin/python3
"""The engine's floors, and which floors each may include (its own and those below it).

    core → text, layers → models → io → pipeline, data → train → onnx, bench → cli, wasm

Reads every #include "…" under src/ and fails, naming the file and the line, when one reaches a
folder its floor may not: so inference never climbs into training, and the page's small engine
(attnlens.wasm: core, text, layers, models, io, pipeline) builds from its floors alone.

    check_layering.py SRC_DIR       check the tree
    check_layering.py --self-test   also check that a planted upward include is caught
"""
import pathlib
import re
import sys
import tempfile

ALLOWED = {
    'core': {'core'},
    'text': {'core', 'text'},
    'layers': {'core', 'layers'},
    'models': {'core', 'text', 'layers', 'models'},
    'io': {'core', 'text', 'layers', 'models', 'io'},
    'data': {'core', 'text', 'data'},
    'pipeline': {'core', 'text', 'layers', 'models', 'io', 'pipeline'},
    'train': {'core', 'text', 'layers', 'models', 'io', 'data', 'pipeline', 'train'},
    'onnx': {'core', 'text', 'layers', 'models', 'io', 'onnx'},
    'bench': {'core', 'text', 'layers', 'models', 'io', 'pipeline', 'bench'},
    'cli': {'core', 'text', 'layers', 'models', 'io', 'data', 'pipeline', 'train', 'onnx', 'bench', 'cli'},
    'wasm': {'core', 'text', 'layers', 'models', 'io', 'pipeline', 'train', 'bench', 'wasm'},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+(?:"([^"]+)"|<([^>]+)>)')
# Headers in <…> that belong to libraries, not to src/ (the ONNX library's onnx/*.h).
LIBRARY = re.compile(r'^onnx/[^/]+\.h$')


def violations(src):
    found = []
    files = sorted(p for p in src.rglob('*') if p.suffix in {'.hpp', '.cpp', '.h'})
    for path in files:
        floor = path.relative_to(src).parts[0]
        if floor not in ALLOWED:
            found.append(f'{path}: the folder src/{floor}/ has no floor (add it to tests/check_layering.py)')
            continue
        for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            name = match.group(1) or match.group(2)
            if match.group(2) and LIBRARY.match(name):
                continue
            if name.startswith('.'):  # "../train/x.hpp": where it lands under src/
                resolved = (path.parent / name).resolve()
                try:
                    name = resolved.relative_to(src.resolve()).as_posix()
                except ValueError:
                    continue  # outside src/
            if '/' not in name:
                continue  # a header beside it (src/wasm/compat), or a library's
            target = name.split('/')[0]
            if target in ALLOWED and target not in ALLOWED[floor]:
                found.append(f'{path}:{number}: src/{floor}/ includes "{name}", a floor above it')
    return found, len(files)


def main(argv):
    if argv[1:] == ['--self-test']:
        with tempfile.TemporaryDirectory() as tmp:
            root = pathlib.Path(tmp)
            (root / 'models').mkdir()
            (root / 'models' / 'bad.hpp').write_text('#include "core/tensor.hpp"\n#include "train/dataset.hpp"\n'
                                                     '#include <pipeline/classify.hpp>\n#include "../io/model_file.hpp"\n'
                                                     '#include <vector>\n')
            found, _ = violations(root)
            assert [f.split(':')[1] for f in found] == ['2', '3', '4'], found
        argv = [argv[0], str(pathlib.Path(__file__).resolve().parent.parent / 'src')]
    if len(argv) != 2:
        print(__doc__)
        return 2
    found, count = violations(pathlib.Path(argv[1]))
    for message in found:
        print(message)
    print(f'{count} source files, {len(found)} upward includes')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
