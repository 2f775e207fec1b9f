#!/usr/bin/env bash
# Runs both fuzz targets from the corpus kept in the repository, then minimises it (cmin) so
# only inputs that add coverage are kept. The corpus is kept packed, one fuzz/corpus/TARGET.tar.xz
# per target (the inputs are mostly variations of one another: 73 MB of inputs pack into under
# 1 MB); it is unpacked into fuzz/corpus/TARGET/ before a run and packed again after.
#
#   fuzz/run.sh SECONDS_PER_TARGET [TARGET...]     (default: 600, both targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); the toolchain here is stable, so
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the sanitizer flags it needs. A corpus directory that
# is empty is first seeded from fixtures/: every .eml for `evaluate`, every attachment file for
# `attachment` (prefixed with the byte that makes the harness pick that reader).
# Each run's figures (executions, coverage, features, corpus size) go to fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("${@:-evaluate attachment}")
read -r -a targets <<<"${targets[*]}"
export RUSTC_BOOTSTRAP=1

seed_evaluate() {
    for f in ../fixtures/eml/*.eml; do
        [ "$(stat -c %s "$f")" -le 262144 ] && cp "$f" corpus/evaluate/
    done
}

seed_attachment() {
    # The harness's KINDS order: xlsx xlsb xls ods csv docx doc odt rtf pdf html text tnef msg.
    local pick f ext
    while IFS= read -r -d '' f; do
        ext="${f##*.}"
        case "${ext,,}" in
            xlsx|xlsm) pick=0 ;; xlsb) pick=1 ;; xls) pick=2 ;; ods) pick=3 ;; csv) pick=4 ;;
            docx) pick=5 ;; pdf) pick=9 ;; dat) pick=12 ;; zip) pick=13 ;; *) continue ;;
        esac
        [ "$(stat -c %s "$f")" -le 262144 ] || continue
        { printf "\\x$(printf %02x "$pick")"; cat "$f"; } \
            >"corpus/attachment/$(sha1sum "$f" | cut -c1-16)"
    done < <(find ../fixtures/files -type f -print0)
}

mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    if [ -z "$(ls -A "corpus/$t")" ] && [ -f "corpus/$t.tar.xz" ]; then
        tar -xJf "corpus/$t.tar.xz" -C corpus
    fi
    if [ -z "$(ls -A "corpus/$t")" ]; then "seed_$t"; fi
    log="logs/$t-$(date -u +%Y%m%dT%H%M%SZ).log"
    echo "fuzzing $t for ${seconds}s from $(ls "corpus/$t" | wc -l) inputs; log: fuzz/$log"
    cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=262144 \
        -rss_limit_mb=2560 -timeout=60 -print_final_stats=1 >"$log" 2>&1 || {
        echo "fuzzing $t stopped with a finding: see fuzz/$log and fuzz/artifacts/$t/"
        exit 1
    }
    grep -E "^(stat::|#[0-9]+ +DONE)" "$log" || true
    # Keep only what adds coverage (cmin merges into a new directory and swaps it in).
    cargo fuzz cmin "$t" "corpus/$t" -- -rss_limit_mb=2560 -timeout=60 \
        >"logs/$t-cmin.log" 2>&1
    tar -cf - -C corpus "$t" | xz -9e -T2 --lzma2=preset=9e,dict=192MiB >"corpus/$t.tar.xz"
    echo "corpus/$t: $(ls "corpus/$t" | wc -l) inputs, $(du -sh "corpus/$t" | cut -f1)," \
        "packed $(du -h "corpus/$t.tar.xz" | cut -f1)"
done
