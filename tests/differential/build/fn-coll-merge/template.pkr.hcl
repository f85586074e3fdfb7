source "file" "out" {
  target  = "out.txt"
  content = <<EOT
merge({ a = 1, b = 2 }, { b = 3, c = 4 }) = [${jsonencode(merge({ a = 1, b = 2 }, { b = 3, c = 4 }))}]
merge({ a = { x = 1 } }, { a = { y = 2 } }) = [${jsonencode(merge({ a = { x = 1 } }, { a = { y = 2 } }))}]
merge({}, {}) = [${jsonencode(merge({}, {}))}]
merge({ a = "s" }, { a = 5 }) = [${jsonencode(merge({ a = "s" }, { a = 5 }))}]
merge({ a = 1 }, {}, { b = [true] }) = [${jsonencode(merge({ a = 1 }, {}, { b = [true] }))}]
merge({ k = "first" }, { k = "second" }, { k = "third" }) = [${jsonencode(merge({ k = "first" }, { k = "second" }, { k = "third" }))}]
EOT
}

build {
  sources = ["source.file.out"]
}
