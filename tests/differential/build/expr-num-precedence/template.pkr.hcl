source "file" "out" {
  content = <<EOT
prec=${3 - 2 * 4 / 8 + 1} ${(3 - 2) * 4} ${-2 * -3} ${10 - 2 - 3} ${2 * 3 % 4}
neg=${-5} ${- -5} ${0 - 2.5}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
