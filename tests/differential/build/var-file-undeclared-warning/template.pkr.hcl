variable "x" {
  default = "x"
}
source "file" "out" {
  content = "${var.x}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
