source "file" "out" {
  target  = "out.txt"
  content = <<EOT
coalesce("", "b") = [${coalesce("", "b")}]
coalesce(null, "x") = [${coalesce(null, "x")}]
coalesce(1, "a") = [${coalesce(1, "a")}]
coalesce("", null, "c") = [${coalesce("", null, "c")}]
coalesce("a", "b") = [${coalesce("a", "b")}]
coalesce(0, 1) = [${coalesce(0, 1)}]
coalesce(false, true) = [${coalesce(false, true)}]
coalescelist([], ["a"]) = [${jsonencode(coalescelist([], ["a"]))}]
coalescelist([], [], [1, 2]) = [${jsonencode(coalescelist([], [], [1, 2]))}]
coalescelist(["x"], ["y"]) = [${jsonencode(coalescelist(["x"], ["y"]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
