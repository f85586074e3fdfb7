source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${jsonencode(flatten([[[1, [2]], []], [[[[3]]]], 4, [[]]]))}
${jsonencode(coalescelist([], [], ["a"], ["b"]))}
${jsonencode(chunklist(["a", "b", "c", "d", "e"], 2))}
${jsonencode(chunklist([], 3))}
${jsonencode(chunklist(["a", "b"], 0))}
${jsonencode(setproduct(["a", "b"], [1, 2]))}
${jsonencode(setproduct(["x"], []))}
${jsonencode(element(["a", "b", "c"], 5))}
${jsonencode(lookup({ a = { b = "c" } }, "a", {}))}
${jsonencode(lookup({ a = "1", b = "2" }, "z", "def"))}
${jsonencode(lookup(lookup({ x = { y = { z = "deep" } } }, "x", {}), "y", {}))}
${jsonencode([for k, v in { b = [1, 2], a = [3] } : [for i in v : "${k}${i}"]])}
${jsonencode({ for k, v in { b = 1, a = 2, c = 1 } : v => k... })}
${jsonencode([for s in ["a", "", "b"] : upper(s) if s != ""])}
${jsonencode({ for i, v in ["x", "y"] : v => i })}
${jsonencode(formatlist("%s=%s", ["a", "b"], "v"))}
${jsonencode(formatlist("%s-%d", "k", [1, 2, 3]))}
${jsonencode(formatlist("%[2]s:%[1]s", ["a", "b"], ["1", "2"]))}
EOT
}
build {
  sources = ["source.file.out"]
}
