locals {
  suffix = "${var.name}-${var.level}"
}
build {
  sources = ["source.file.out"]
}
