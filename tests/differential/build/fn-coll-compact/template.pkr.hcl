source "file" "out" {
  target  = "out.txt"
  content = <<EOT
compact(["a", "", "b", ""]) = [${jsonencode(compact(["a", "", "b", ""]))}]
compact([]) = [${jsonencode(compact([]))}]
compact(["", ""]) = [${jsonencode(compact(["", ""]))}]
compact([" ", "x"]) = [${jsonencode(compact([" ", "x"]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
