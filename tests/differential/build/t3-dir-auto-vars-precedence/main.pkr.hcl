variable "a" { default = "default" }
variable "b" { default = "default" }
variable "c" { default = "default" }
variable "d" { default = "default" }
variable "e" { default = "default" }
source "file" "out" {
  content = "a=${var.a} b=${var.b} c=${var.c} d=${var.d} e=${var.e}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
