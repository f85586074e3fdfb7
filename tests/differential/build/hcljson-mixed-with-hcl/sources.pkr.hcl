variable "who" {
  default = "hcl"
}
source "file" "fromhcl" {
  content = "declared in ${var.who}\n"
  target  = "out.txt"
}
