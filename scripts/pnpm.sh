# Sourced by the other scripts: makes `pnpm` (major 10) available, installing it locally if needed.
# Works on a fresh machine with only Node and npm, as root or not.
lbkit_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v pnpm >/dev/null 2>&1 || ! pnpm --version 2>/dev/null | grep -q '^10\.'; then
  if [ ! -x "$lbkit_root/.tools/node_modules/.bin/pnpm" ]; then
    echo "lbkit: installing pnpm 10 into .tools/ (pnpm was not found)" >&2
    npm install --silent --no-audit --no-fund --prefix "$lbkit_root/.tools" pnpm@10 >&2
  fi
  export PATH="$lbkit_root/.tools/node_modules/.bin:$PATH"
fi
