source "file" "out" {
  content = <<EOT
sci=${1e3} ${1.5e-7} ${2E2} ${1e21} ${1e-10} ${1.0} ${007}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
