source "file" "out" {
  target  = "out.txt"
  content = <<EOT
%{ for n in [0, 1, 5, 10, 11] ~}
${n}: %{ if n == 0 }zero%{ else }%{ if n < 5 }small%{ else }%{ if n <= 10 }medium%{ else }large%{ endif }%{ endif }%{ endif }
%{ endfor ~}
%{ if "true" }str-true%{ endif }|%{ if !false }not-false%{ endif }|%{if 1 == 1.0}eq%{else}ne%{endif}
%{ for i, c in ["a", "b"] }${i}${c}%{ if i < 1 },%{ endif }%{ endfor }
%{~ for k in [] }never%{ endfor ~}
|end
EOT
}
build {
  sources = ["source.file.out"]
}
