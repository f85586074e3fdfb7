variable "any" {
}
variable "num" {
}
variable "lst" {
}
source "file" "out" {
  content = "any=${var.any}\nnum=${var.num}\nlst=${var.lst}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
