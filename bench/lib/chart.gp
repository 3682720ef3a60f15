# Draws the requests/s ratio of every contestant to its group's reference as bars.
#   gnuplot -e "datafile='chart.dat'; outfile='benchmarks.png'" chart.gp
# chart.dat lines: x position, ratio, "label", colour index (from bench/lib/report.py).
set terminal pngcairo size 1200,700 font "sans,10" noenhanced
set output outfile
set title "Requests per second relative to each group's reference (1.0 = reference)\nblue: gatehouse, green: nginx, orange: HAProxy, purple: Apache httpd"
set ylabel "requests/s ÷ reference"
set style fill solid 0.8 border -1
set boxwidth 0.8
set grid ytics
set yrange [0:*]
set xtics rotate by -40 left nomirror
set bmargin 16
set rmargin 12
set key off
set linetype 1 lc rgb "#2b6cb0"
set linetype 2 lc rgb "#2f855a"
set linetype 3 lc rgb "#c05621"
set linetype 4 lc rgb "#805ad5"
set linetype 5 lc rgb "#718096"
plot datafile using 1:2:4:xtic(3) with boxes lc variable, \
     '' using 1:2:(sprintf("%.2f", $2)) with labels offset 0,0.7, \
     1 with lines lc rgb "black" dt 2
