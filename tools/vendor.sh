#!/usr/bin/env bash
# Vendor MathJax, require.js and the Jupyter widget manager for an offline site, from npm packages (`npm pack`).
# _ext/offline_assets.py points the build at them when they are here; without npm the site loads them from CDNs.
set -euo pipefail
dest=${1:-_vendor}
packages="mathjax@3.2.2 requirejs@2.3.7 @jupyter-widgets/html-manager@1.0.15"
stamp="$dest/VERSIONS"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$packages" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "vendor: npm not found; the site will load MathJax and the widget manager from CDNs" >&2
  rm -rf "$dest"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent $packages >/dev/null); then
  echo "vendor: npm pack failed; the site will load MathJax and the widget manager from CDNs" >&2
  rm -rf "$dest"
  exit 0
fi
for tgz in "$tmp"/*.tgz; do
  mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"
done
rm -rf "$dest"
mkdir -p "$dest/mathjax" "$dest/html-manager" "$dest/requirejs"
mj="$tmp/mathjax-3.2.2/package/es5"
cp -r "$mj/tex-mml-chtml.js" "$mj/input" "$mj/output" "$mj/ui" "$mj/a11y" "$mj/adaptors" "$dest/mathjax/"
cp "$tmp/mathjax-3.2.2/package/LICENSE" "$dest/mathjax/"
hm="$tmp/jupyter-widgets-html-manager-1.0.15/package/dist"
find "$hm" -maxdepth 1 -type f ! -name '*.map' -exec cp {} "$dest/html-manager/" \;
cp "$tmp/requirejs-2.3.7/package/require.js" "$dest/requirejs/"
echo "$packages" > "$stamp"
echo "vendor: $(du -sh "$dest" | cut -f1) in $dest ($packages)"
