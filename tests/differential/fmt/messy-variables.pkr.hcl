# Variables of every simple type,locals built from them,two sources,a named build.
variable "name" { 
type  =string
default ="web"
}
 variable "count" { 
type  =number
default = 3
}
variable "enabled" {
  type    = bool 
default  =   true 
} 
variable "zones" {
type   =  list(string)
default   = ["a", "b"]
}
  variable "tags" {
type  =map(string)
default ={ team = "infra", env = "prod" }
} 
variable "password" { 
  type      = string
default  =  "hunter2"
sensitive   =true
  }
locals {
image=   "${var.name}-${var.count}" 
  upper   = upper(var.name)
zone =   element(var.zones,1) 
first = var.zones[0] 
tagged =  merge(var.tags,{ name = var.name }) 
summary   = join(",", [for z in var.zones : "${var.name}-${z}"])
}
source "null" "first" {
communicator   = "none"
}
source "null" "second" {
communicator  = "none"
  } 
build {
     name        = "web" 
description   = "two null builds"
sources =  ["source.null.first", "source.null.second"]
provisioner "shell-local" {
inline   = ["echo ${local.image}"]
}
provisioner "shell-local" {
  only   = ["null.first"]
inline=   ["echo only first"]
}
provisioner "shell-local" { 
except   =   ["null.first"]
inline= ["echo not first"]
} 
      post-processor "manifest" {
output= "manifest.json" 
}
post-processors {
post-processor "checksum" {
checksum_types  = ["sha256"] 
}
post-processor "shell-local" {
inline   =   ["echo done"]
   }
   } 
      }
