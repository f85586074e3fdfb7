variable "a" {
  default = "x"
}
variable "b" {
  default = "${var.a}-y"
}
source "file" "out" {
  content = "${var.b}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
