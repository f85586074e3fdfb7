variable "a" {
  default = upper("x")
}
source "file" "out" {
  content = "${var.a}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
