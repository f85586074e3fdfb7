source "file" "out" {
  target  = "out.txt"
  content = <<EOT
merge() = [${jsonencode(merge())}]
merge({ a = 1 }, null) = [${jsonencode(merge({ a = 1 }, null))}]
merge({}, { b = "x" }) = [${jsonencode(merge({}, { b = "x" }))}]
EOT
}

build {
  sources = ["source.file.out"]
}
