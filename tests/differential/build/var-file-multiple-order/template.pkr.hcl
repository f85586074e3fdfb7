variable "a" {
  default = "default-a"
}
variable "b" {
  default = "default-b"
}
variable "c" {
  default = "default-c"
}
source "file" "out" {
  content = "${var.a} ${var.b} ${var.c}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
