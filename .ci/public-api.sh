#!/usr/bin/env bash
# The public API of the library crate `defender-tvm` (all features), one item a line, is
# committed in public-api.txt at the repository root, so that a change to it shows in review.
#
#   .ci/public-api.sh          check: exit 1, with the diff, if public-api.txt is not the code's
#   .ci/public-api.sh --bless  rewrite public-api.txt from the code
#
# How: rustdoc writes the crate's API as JSON, and the reader in .ci/public-api/ (its own crate,
# with its own Cargo.lock) prints it as text. rustdoc's JSON output is unstable
# (`-Z unstable-options --output-format json`); on a stable toolchain RUSTC_BOOTSTRAP allows it,
# here for the crate `defender_tvm` alone (dependencies build as on plain stable). The JSON
# format changes with the toolchain: the reader checks its `format_version` and says what to do
# when it is not the one it reads.
#
# Both builds use target/public-api, not target/: cargo rebuilds whatever RUSTC_BOOTSTRAP
# touches, and the normal builds' cache stays as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1-}" in
  "") bless=false ;;
  --bless) bless=true ;;
  *) echo "usage: $0 [--bless]" >&2; exit 2 ;;
esac

target=target/public-api
RUSTC_BOOTSTRAP=defender_tvm cargo rustdoc --quiet -p defender-tvm --lib --all-features \
  --target-dir "$target" -- -Z unstable-options --output-format json
cargo build --quiet --release --locked --manifest-path .ci/public-api/Cargo.toml \
  --target-dir "$target/reader"

listing="$target/public-api.txt"
{
  echo "# The public API of defender-tvm (all features), one item a line: written by"
  echo "# .ci/public-api.sh --bless, checked by .ci/public-api.sh (see .ci/public-api/src/main.rs)."
  "$target/reader/release/public-api-listing" "$target/doc/defender_tvm.json"
} > "$listing"

if $bless; then
  cp "$listing" public-api.txt
  echo "public-api.txt: $(grep -vc '^# ' public-api.txt) items"
elif ! diff -u --label "public-api.txt (committed)" --label "public-api.txt (the code)" \
  public-api.txt "$listing"; then
  echo "The public API differs from public-api.txt (above: - committed, + the code)." >&2
  echo "If the change is meant, run .ci/public-api.sh --bless and commit public-api.txt." >&2
  exit 1
else
  echo "public-api.txt matches the code ($(grep -vc '^# ' public-api.txt) items)"
fi
