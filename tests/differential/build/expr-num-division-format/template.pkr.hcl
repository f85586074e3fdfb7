source "file" "out" {
  content = <<EOT
div13=${1 / 3}
div102=${10 / 2}
div23=${2 / 3}
frac=${22 / 7} ${100 / 3} ${1 / 8} ${-1 / 4}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
