source "file" "out" {
  target  = "out.txt"
  content = "x\n"
}
build {
  sources = ["source.file.out"]
  dynamic "post-processor" {
    for_each = { a = "1", b = "2" }
    labels   = ["shell-local"]
    content {
      inline = ["echo ${post-processor.key}=${post-processor.value} >> pp.txt"]
    }
  }
}
