source "file" "out" {
  target  = "out.txt"
  content = <<EOT
sort(["b", "a", "B", "10", "9", ""]) = [${jsonencode(sort(["b", "a", "B", "10", "9", ""]))}]
sort([]) = [${jsonencode(sort([]))}]
sort(["é", "e", "f", "E"]) = [${jsonencode(sort(["é", "e", "f", "E"]))}]
sort([10, 9, 1, 100]) = [${jsonencode(sort([10, 9, 1, 100]))}]
sort(["a", "a"]) = [${jsonencode(sort(["a", "a"]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
