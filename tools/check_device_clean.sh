#!/usr/bin/env bash
# Device-clean lint (ctest device_lint): every tensor factory call in the code that runs on the model's device
# (trainers/, threats/, models/, experiments/, reports/, core/) either follows a tensor's device — the call's own
# arguments, or the method chain right after it, name one: options(), a device or options variable,
# .to(device) — or says why it belongs on the host with a `// host: why` comment on its line or above it (one
# comment covers the statements below it up to a blank line, the start of the block or 8 lines, whichever comes
# first). The same for a generator made without a device (make_generator(seed)): it may only draw host tensors.
# A factory without options makes a CPU tensor that breaks the first op it meets on a GPU, and LibTorch gives
# this CPU-only machine no second device to catch it at run time (tests/unit/device/device_clean_test.cpp does,
# on a GPU). datasets/ is left out: data is read on the host and moved per batch by the training loop and the
# evaluator.
#   tools/check_device_clean.sh [SRC_DIR]     exit 1 listing each offending call
#   tools/check_device_clean.sh --self-test   shows the lint catching a planted call and passing the fixed one
set -euo pipefail

lint() {  # files...
  perl -e '
    my $bad = 0;
    my $factory = qr/\b(?:torch|at)::(?:zeros|ones|empty|full|arange|rand|randn|randint|randperm|tensor|eye|linspace|from_blob|normal|scalar_tensor)\s*\(/;
    my $generator = qr/\bmake_generator\s*\(/;
    for my $file (@ARGV) {
      open(my $fh, "<", $file) or die "$file: $!";
      my @lines = <$fh>;
      close $fh;
      my $text = join("", @lines);
      while ($text =~ /($factory|$generator)/g) {
        my $start = $-[0];
        my $call = $1;
        my $line = 1 + (substr($text, 0, $start) =~ tr/\n//);
        my $src = $lines[$line - 1];
        my $col = $start - (rindex(substr($text, 0, $start), "\n") + 1);
        next if substr($src, 0, $col) =~ m{//};              # inside a comment
        next if $src =~ m{^\s*(?:uint64_t|at::Generator|c10::Device)\s+make_generator}; # the declaration
        # The arguments of the call (balanced parentheses; calls span lines) and the method chain right after it
        # (`torch::tensor(v).to(x.device())`): what a device may come from, nothing else of the statement.
        my $rest = substr($text, $start);
        my $open = index($rest, "(");
        my ($depth, $end) = (0, length($rest));
        for (my $i = $open; $i < length($rest); $i++) {
          my $c = substr($rest, $i, 1);
          $depth++ if $c eq "(";
          if ($c eq ")") { $depth--; if ($depth == 0) { $end = $i + 1; last; } }
        }
        my $stmt = substr($rest, 0, $end);
        my ($chain) = substr($rest, $end) =~ /^((?:\s*\.\s*\w+\s*(?:\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?)*)/s;
        $stmt .= $chain // "";
        my $is_gen = $call =~ /make_generator/;
        if ($is_gen) {
          # make_generator(seed, device): follows the device. One argument: a host generator.
          my $depth = 0; my $commas = 0; my $i = index($stmt, "(");
          for my $c (split //, substr($stmt, $i)) {
            $depth++ if $c eq "(" ; $depth-- if $c eq ")";
            $commas++ if $c eq "," && $depth == 1;
            last if $depth == 0;
          }
          next if $commas >= 1;
        } else {
          next if $stmt =~ /\b(?:options|opts_?|opt|device_?|dev)\b/;
        }
        # A `// host:` comment covers its own line and the statements after it up to a blank line or the start of
        # the block, so one note serves a run of host tensors.
        my $covered = 0;
        for (my $k = $line - 1; $k >= 0 && $k >= $line - 8; $k--) {
          my $l = $lines[$k];
          if ($l =~ m{//\s*host:}) { $covered = 1; last; }
          last if $l =~ /^\s*$/ || ($k < $line - 1 && $l =~ /\{\s*$/);
        }
        next if $covered;
        (my $shown = $src) =~ s/^\s+|\s+$//g;
        print "$file:$line: $shown\n";
        $bad++;
      }
    }
    if ($bad) {
      print STDERR "device lint: $bad call(s) above make a CPU tensor or generator: pass the model tensor\x27s options() or ",
                   "device, or say why it belongs on the host with a `// host: why` comment on the line or above it\n";
      exit 1;
    }
  ' "$@"
}

if [[ ${1:-} == --self-test ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  printf 'auto noise = torch::randn({n, d},\n                         torch::kFloat);\n' >"$tmp/bad.cpp"
  printf 'auto g = make_generator(seed);\n' >"$tmp/bad_gen.cpp"
  printf 'auto t = torch::cat({torch::zeros({num_devices}), w.to(device)});\n' >"$tmp/bad_nested.cpp"
  printf 'auto noise = torch::randn({n, d},\n                         x.options());\n// host: read on the host\nauto l = torch::zeros({n}, torch::kDouble);\nauto g = make_generator(seed, x.device());\n' >"$tmp/good.cpp"
  for f in bad bad_gen bad_nested; do
    if lint "$tmp/$f.cpp" >/dev/null 2>&1; then echo "device lint self-test: $f.cpp passed but must fail" >&2; exit 1; fi
  done
  lint "$tmp/good.cpp" || { echo "device lint self-test: good.cpp failed but must pass" >&2; exit 1; }
  echo "device lint self-test: the planted calls are caught, the fixed ones pass"
  exit 0
fi

src=${1:-.}
mapfile -t files < <(cd "$src" && find trainers threats models experiments reports core -name '*.cpp' -o -name '*.h' | sort)
(( ${#files[@]} )) || { echo "device lint: no sources under $src" >&2; exit 2; }
cd "$src"
lint "${files[@]}"
echo "device lint: ${#files[@]} files, every factory call follows a device or says why it is on the host"
