source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${jsonencode(sort(["10", "9", "1", "100", "-1", "a", "B", ""]))}
${jsonencode(sort([10, 9, 1, 100]))}
${jsonencode(sort(["é", "e", "z", "Z"]))}
${jsonencode(distinct(["b", "a", "b", "A"]))}
${jsonencode(reverse(sort(["x", "y"])))}
EOT
}
build {
  sources = ["source.file.out"]
}
