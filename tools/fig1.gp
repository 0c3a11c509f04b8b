# Renders Figure 1 from tools/fig1.sh's summary (columns: panel layer copies mean min max).
# Variables: dat, titles (panel<TAB>title lines), out (directory).
panels = system(sprintf("cut -f1 %s | tr '\\n' ' '", titles))
title_of(p) = system(sprintf("awk -F'\\t' '$1 == \"%s\" { print $2 }' %s", p, titles))
layers_of(p) = system(sprintf("awk '$1 == \"%s\" { print $2 }' %s | uniq | tr '\\n' ' '", p, dat))

set logscale x
set xlabel "copies per layer"
set ylabel "cosine similarity to BP"
set yrange [-0.2:1.05]
set grid
set key top left reverse Left samplen 2
set autoscale xfix
set style data yerrorlines

# Each point: the mean over repeats; bars span min..max.
do for [i = 1:words(panels)] {
  p = word(panels, i)
  set terminal pngcairo size 640,480 font ",10"
  set output sprintf("%s/%s.png", out, p)
  set title title_of(p)
  L = layers_of(p)
  plot for [l in L] dat using (strcol(1) eq p && strcol(2) eq l ? $3 : 1/0):4:5:6 title l
}

set terminal pngcairo size 1800,1350 font ",10"
set output sprintf("%s/fig1.png", out)
set multiplot layout 3,3 title "LR gradient vs BP on ResNet-5 (cosine similarity per layer)"
do for [i = 1:words(panels)] {
  p = word(panels, i)
  set title title_of(p)
  L = layers_of(p)
  plot for [l in L] dat using (strcol(1) eq p && strcol(2) eq l ? $3 : 1/0):4:5:6 title l
}
unset multiplot
