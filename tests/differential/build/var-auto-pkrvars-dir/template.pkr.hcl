variable "a" {
  default = "default-a"
}
variable "b" {
  default = "default-b"
}
source "file" "out" {
  content = "${var.a} ${var.b}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
