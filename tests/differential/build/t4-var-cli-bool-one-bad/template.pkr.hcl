variable "b" {
  type = bool
}
source "file" "out" {
  target  = "out.txt"
  content = "${var.b}\n"
}
build {
  sources = ["source.file.out"]
}
