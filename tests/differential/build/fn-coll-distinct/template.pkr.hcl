source "file" "out" {
  target  = "out.txt"
  content = <<EOT
distinct(["b", "a", "b", "c", "a"]) = [${jsonencode(distinct(["b", "a", "b", "c", "a"]))}]
distinct([]) = [${jsonencode(distinct([]))}]
distinct([1, 1.0, 2, 1]) = [${jsonencode(distinct([1, 1.0, 2, 1]))}]
distinct(["é", "e\u0301", "e"]) = [${jsonencode(distinct(["é", "e\u0301", "e"]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
