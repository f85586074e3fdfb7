variable "size" {
  type    = number
  default = 5
  validation {
    condition     = var.size > 1
    error_message = "The size must be more than 1."
  }
}
source "file" "out" {
  content = "size=${var.size}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
