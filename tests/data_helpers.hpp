// Helpers for the tests of readers (and the fuzz seeds): archives made in memory, and code run in a
// child process whose memory is limited.
#pragma once
#include <archive.h>
#include <archive_entry.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// Whether AddressSanitizer is on (gcc says so in a macro, clang through __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define ATTNLENS_TESTS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTNLENS_TESTS_UNDER_ASAN 1
#endif
#endif

namespace attnlens::testing {

// `entries` (name, content) as tar bytes, compressed with `filter` ("none", "gzip", "bzip2", "xz");
// a single entry named "" is written raw: a compressed text file.
inline std::vector<uint8_t> archive_in_memory(const std::vector<std::pair<std::string, std::string>>& entries,
                                              const std::string& filter) {
  size_t capacity = 1 << 16;
  for (const auto& entry : entries) capacity += 2 * entry.second.size() + 1024;
  std::vector<uint8_t> bytes(capacity);
  size_t used = 0;
  archive* writer = archive_write_new();
  if (filter == "gzip") archive_write_add_filter_gzip(writer);
  if (filter == "bzip2") archive_write_add_filter_bzip2(writer);
  if (filter == "xz") archive_write_add_filter_xz(writer);
  const bool raw = entries.size() == 1 && entries[0].first.empty();
  raw ? archive_write_set_format_raw(writer) : archive_write_set_format_pax_restricted(writer);
  archive_write_set_bytes_in_last_block(writer, 1);
  if (archive_write_open_memory(writer, bytes.data(), bytes.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error("libarchive cannot write to memory");
  for (const auto& [name, text] : entries) {
    archive_entry* entry = archive_entry_new();
    if (!raw) archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(text.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_write_header(writer, entry);
    archive_write_data(writer, text.data(), text.size());
    archive_entry_free(entry);
  }
  const bool closed = archive_write_close(writer) == ARCHIVE_OK;
  archive_write_free(writer);
  if (!closed) throw std::runtime_error("libarchive cannot finish the archive");
  bytes.resize(used);
  return bytes;
}

// The address space this process has now (VmSize) and the most it has had (VmPeak), in bytes.
inline std::pair<uint64_t, uint64_t> address_space() {
  std::ifstream status("/proc/self/status");
  std::string line;
  uint64_t size = 0, peak = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) size = std::stoull(line.substr(7)) * 1024;
    if (line.rfind("VmPeak:", 0) == 0) peak = std::stoull(line.substr(7)) * 1024;
  }
  return {size, peak};
}

// Runs `body` in a child process whose address space may grow by at most `extra` bytes over this
// process's (not under AddressSanitizer, which reserves terabytes of shadow), so code that
// allocated what hostile input asks for fails there instead of exhausting the machine. Returns
// what `body` returns (or "ok" when it returns nothing), the message of what it threw, or "died"
// (killed, or out of memory outside an allocation).
template <class Body>
std::string run_with_memory_limit([[maybe_unused]] uint64_t extra, Body body) {
  int channel[2];
  if (pipe(channel) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    close(channel[0]);
#ifndef ATTNLENS_TESTS_UNDER_ASAN
    const uint64_t now = address_space().first;
    const rlimit limit{now + extra, now + extra};
    setrlimit(RLIMIT_AS, &limit);
#endif
    std::string message = "ok";
    try {
      if constexpr (std::is_void_v<decltype(body())>) body();
      else message = body();
    } catch (const std::exception& e) {
      message = e.what();
    }
    const ssize_t written = write(channel[1], message.data(), message.size());
    _exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  close(channel[1]);
  std::string message;
  char buffer[4096];
  ssize_t n;
  while ((n = read(channel[0], buffer, sizeof buffer)) > 0) message.append(buffer, static_cast<size_t>(n));
  close(channel[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? message : "died";
}

}  // namespace attnlens::testing
