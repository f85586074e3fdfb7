variable "d" {
  default = "default"
}
variable "e" {
  default = "default"
}
variable "a" {
  default = "default"
}
variable "f" {
  default = "default"
}
variable "c" {
  default = "default"
}
source "file" "out" {
  content = "d=${var.d} e=${var.e} a=${var.a} f=${var.f} c=${var.c}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
