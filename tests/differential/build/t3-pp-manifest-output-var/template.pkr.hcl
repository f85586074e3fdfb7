variable "name" {
  default = "img"
}
source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output = "${var.name}-manifest.json"
    custom_data = {
      src   = source.name
      type  = source.type
      count = 3
      flag  = true
    }
  }
}
