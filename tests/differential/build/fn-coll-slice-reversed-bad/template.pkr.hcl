source "file" "out" {
  target  = "out.txt"
  content = <<EOT
slice(["a", "b", "c", "d"], 3, 1) = [${jsonencode(slice(["a", "b", "c", "d"], 3, 1))}]
EOT
}

build {
  sources = ["source.file.out"]
}
