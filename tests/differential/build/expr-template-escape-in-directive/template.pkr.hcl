locals {
  l = ["a", "b"]
}
source "file" "out" {
  content = "%{ for x in local.l }${x}\t|\n%{ endfor }%{ if true }yes\u00e9\n%{ endif }"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
