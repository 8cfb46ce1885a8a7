// A table row for the page's tables: the first `headers` cells are row headers (<th scope="row">),
// the rest data cells; every cell's text goes in as text.
export function tableRow(cells, headers = 1) {
  const tr = document.createElement('tr');
  cells.forEach((text, i) => {
    const cell = document.createElement(i < headers ? 'th' : 'td');
    if (i < headers) cell.scope = 'row';
    cell.textContent = text;
    tr.append(cell);
  });
  return tr;
}
