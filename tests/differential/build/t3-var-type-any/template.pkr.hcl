variable "a" {
  type    = any
  default = { x = [1, 2], y = "s" }
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.a)}\n"
}
build {
  sources = ["source.file.out"]
}
