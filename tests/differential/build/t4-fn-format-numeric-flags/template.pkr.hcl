source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${format("%08.3f", 3.14159)}]
[${format("%08.3f", -3.14159)}]
[${format("%+d", -5)}]
[${format("% d", 5)}]
[${format("% d", -5)}]
[${format("%+.2f", 2.5)}]
[${format("%e", 123456)}]
[${format("%E", 0.000123)}]
[${format("%.0e", 15)}]
[${format("%g", 1e21)}]
[${format("%g", 0.0000001)}]
[${format("%G", 1e-10)}]
[${format("%x", 3735928559)}]
[${format("%X", 48879)}]
[${format("%o", 64)}]
[${format("%b", 1023)}]
[${format("%8.2f|", 1.005)}]
[${format("%-8.2f|", 1.005)}]
[${format("%.3f", 2.0005)}]
[${format("%f", 1/3)}]
[${format("%d", 9007199254740993)}]
[${format("%q", "tab\there")}]
[${format("%q", "é✓")}]
[${format("%-5s|%5s", "ab", "cd")}]
EOT
}
build {
  sources = ["source.file.out"]
}
