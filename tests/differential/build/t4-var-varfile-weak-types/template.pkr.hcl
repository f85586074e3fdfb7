variable "nums" {
  type = list(number)
}
variable "tags" {
  type = map(string)
}
variable "flag" {
  type = bool
}
variable "count" {
  type = number
}
variable "name" {
  type = string
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(var.nums)} ${var.nums[0] + var.nums[1]}\n${jsonencode(var.tags)}\n${var.flag ? "yes" : "no"} ${var.count * 2} ${jsonencode(var.name)}\n"
}
build {
  sources = ["source.file.out"]
}
