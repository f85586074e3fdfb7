variable "a" { default = "default" }
variable "b" { default = "default" }
source "file" "out" {
  content = "a=${var.a} b=${var.b}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
