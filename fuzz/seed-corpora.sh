#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs: the examples and the bad-input corpus for the
# spec target, the examples wrapped in KRM ResourceLists for the krm target, and the test chart
# rendered by the real helm (plus the rendered examples) for the post_render target.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
corpus=fuzz/corpus
mkdir -p "$corpus/spec" "$corpus/krm" "$corpus/post_render"

cp examples/*.yaml tests/invalid/* "$corpus/spec/"

for example in examples/*.yaml; do
  name="$(basename "$example" .yaml)"
  {
    echo "apiVersion: config.kubernetes.io/v1"
    echo "kind: ResourceList"
    echo "items: []"
    echo "functionConfig:"
    grep -v '^#' "$example" | sed 's/^/  /'
  } >"$corpus/krm/$name.yaml"
done
cp examples/kustomize/krm/generator.yaml "$corpus/krm/generator-only.yaml"

# Post-render input is whatever Helm rendered: the test chart, and infera-render's own output.
helm="$(command -v helm || echo .tools/bin/helm)"
"$helm" template demo tests/chart >"$corpus/post_render/test-chart.yaml"
cargo run -q -p infera-render-cli -- render -f examples/single-region.yaml >"$corpus/post_render/single-region.yaml"
cargo run -q -p infera-render-cli -- render -f examples/everything-enabled.yaml \
  --seed-connection-string 'seed:AbC123@10.0.0.1:4500' >"$corpus/post_render/everything-enabled.yaml"
echo "seeded: $(ls "$corpus/spec" | wc -l) spec, $(ls "$corpus/krm" | wc -l) krm, $(ls "$corpus/post_render" | wc -l) post_render inputs"
