source "file" "out" {
  target  = "out.txt"
  content = <<EOT
zipmap(["a"], [1, 2]) = [${jsonencode(zipmap(["a"], [1, 2]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
