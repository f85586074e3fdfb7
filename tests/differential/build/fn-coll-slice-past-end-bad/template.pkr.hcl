source "file" "out" {
  target  = "out.txt"
  content = <<EOT
slice(["a", "b"], 0, 3) = [${jsonencode(slice(["a", "b"], 0, 3))}]
EOT
}

build {
  sources = ["source.file.out"]
}
