variable "n" {
  type = number
}
source "file" "out" {
  target  = "out.txt"
  content = "${var.n}\n"
}
build {
  sources = ["source.file.out"]
}
