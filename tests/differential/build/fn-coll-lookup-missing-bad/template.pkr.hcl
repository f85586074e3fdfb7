source "file" "out" {
  target  = "out.txt"
  content = <<EOT
lookup({ a = "x" }, "b") = [${lookup({ a = "x" }, "b")}]
EOT
}

build {
  sources = ["source.file.out"]
}
