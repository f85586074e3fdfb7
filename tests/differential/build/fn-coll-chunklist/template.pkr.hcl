source "file" "out" {
  target  = "out.txt"
  content = <<EOT
chunklist(["a", "b", "c", "d", "e"], 2) = [${jsonencode(chunklist(["a", "b", "c", "d", "e"], 2))}]
chunklist([], 3) = [${jsonencode(chunklist([], 3))}]
chunklist(["a", "b"], 5) = [${jsonencode(chunklist(["a", "b"], 5))}]
chunklist(["a", "b", "c"], 1) = [${jsonencode(chunklist(["a", "b", "c"], 1))}]
chunklist(["a", "b", "c"], 0) = [${jsonencode(chunklist(["a", "b", "c"], 0))}]
chunklist([1, 2, 3, 4], 2) = [${jsonencode(chunklist([1, 2, 3, 4], 2))}]
EOT
}

build {
  sources = ["source.file.out"]
}
