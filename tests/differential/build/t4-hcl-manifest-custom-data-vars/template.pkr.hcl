variable "ver" {
  type    = string
  default = "1.0"
}
locals {
  tags = { team = "ops", ver = var.ver }
}
source "file" "img" {
  target  = "img.txt"
  content = "img\n"
}
build {
  name    = "release"
  sources = ["source.file.img"]
  post-processor "manifest" {
    output      = "manifest-${var.ver}.json"
    strip_path  = true
    custom_data = merge(local.tags, { src = "${source.type}.${source.name}" })
  }
}
