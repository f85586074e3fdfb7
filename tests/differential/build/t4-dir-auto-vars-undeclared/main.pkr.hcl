variable "a" {
  default = "d"
}
source "file" "out" {
  target  = "out.txt"
  content = "${var.a}\n"
}
build {
  sources = ["source.file.out"]
}
