"""What an EC2 account holds after a build, as JSON that two tools' builds can be compared by.

    python state.py PORT REGION [REGION ...] > state.json
    python state.py PORT REGION [REGION ...] --baseline > baseline.json   (before the build)
    BASELINE=baseline.json python state.py PORT REGION [REGION ...] > state.json

For every region: the account's own AMIs (name, attributes, tags, launch permissions, block
device mappings) with their snapshots (tags, create-volume permissions, encryption), the
instances (state, type, tags, whether a key pair and security groups were given), every snapshot
the account owns, the volumes,
the key pairs and the non-default security groups. The ids of what the build made (AMIs,
snapshots, instances, volumes) are replaced by `<ami>`, `<snap>`, `<instance>` and `<volume>`
wherever they occur, so the same build by another tool gives the same text; ids that were there
before (moto's own AMIs, such as the source AMI) stay. Lists are sorted. With a baseline (the
snapshots there were before the build: moto's own AMIs have thousands), those are left out.

An image's description is left out: moto ignores ModifyImageAttribute's Description, which is
how Packer sets it, so a tool that sets it in CreateImage differs for a reason that is moto's.
"""

import json
import os
import re
import sys
import urllib.request

import boto3


def tags(obj):
    return sorted([t["Key"], t["Value"]] for t in obj.get("Tags", []))


def own_snapshot_ids(port, region, baseline):
    """The account's snapshots in `region` but those in `baseline`, from the test layer's list
    (describing every snapshot through the API takes seconds with moto's default AMIs)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__kiln/snapshots?region={region}") as r:
        return [i for i in json.load(r) if i not in baseline]


def describe_snapshots(ec2, ids):
    return ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"] if ids else []


def region_state(ec2, new_snapshots):
    images = []
    for i in ec2.describe_images(Owners=["self"])["Images"]:
        perms = ec2.describe_image_attribute(ImageId=i["ImageId"], Attribute="launchPermission")
        devices = []
        snapshots = []
        for b in i.get("BlockDeviceMappings", []):
            d = {k: v for k, v in b.items() if k != "Ebs"}
            ebs = dict(b.get("Ebs", {}))
            sid = ebs.get("SnapshotId")
            if sid:
                s = ec2.describe_snapshots(SnapshotIds=[sid])["Snapshots"][0]
                sp = ec2.describe_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission")
                snapshots.append({
                    "device": b["DeviceName"],
                    "tags": tags(s),
                    "create_volume_permissions": sorted(sp["CreateVolumePermissions"], key=json.dumps),
                    "encrypted": s.get("Encrypted"),
                    "volume_size": s.get("VolumeSize"),
                })
            if ebs:
                d["Ebs"] = ebs
            devices.append(d)
        images.append({
            **{k: i.get(k) for k in (
                "Name", "State", "Public", "Architecture", "RootDeviceType", "RootDeviceName",
                "VirtualizationType", "EnaSupport", "SriovNetSupport", "BootMode")},
            "tags": tags(i),
            "launch_permissions": sorted(perms["LaunchPermissions"], key=json.dumps),
            "block_device_mappings": sorted(devices, key=lambda d: d["DeviceName"]),
            "snapshots": sorted(snapshots, key=lambda d: d["device"]),
        })
    instances = []
    for r in ec2.describe_instances()["Reservations"]:
        for x in r["Instances"]:
            instances.append({
                "state": x["State"]["Name"],
                "type": x["InstanceType"],
                "image": x["ImageId"],
                "tags": tags(x),
                "key_pair": bool(x.get("KeyName")),
                "security_groups": len(x.get("SecurityGroups", [])),
            })
    own_snapshots = [{"size": sn.get("VolumeSize"), "tags": tags(sn), "encrypted": sn.get("Encrypted")}
                     for sn in describe_snapshots(ec2, new_snapshots)]
    volumes = [{"state": v["State"], "size": v["Size"], "tags": tags(v)}
               for v in ec2.describe_volumes()["Volumes"]]
    return {
        "images": sorted(images, key=lambda i: i["Name"] or ""),
        "instances": sorted(instances, key=json.dumps),
        "volumes": sorted(volumes, key=json.dumps),
        "own_snapshots": sorted(own_snapshots, key=json.dumps),
        "key_pairs": sorted(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]),
        "security_groups": sorted(g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]
                                  if g["GroupName"] != "default"),
    }


def made_ids(ec2, new_snapshots):
    ids = {}
    for i in ec2.describe_images(Owners=["self"])["Images"]:
        ids[i["ImageId"]] = "<ami>"
        for b in i.get("BlockDeviceMappings", []):
            if b.get("Ebs", {}).get("SnapshotId"):
                ids[b["Ebs"]["SnapshotId"]] = "<snap>"
    for s in new_snapshots:
        ids[s] = "<snap>"
    for r in ec2.describe_instances()["Reservations"]:
        for x in r["Instances"]:
            ids[x["InstanceId"]] = "<instance>"
    for v in ec2.describe_volumes()["Volumes"]:
        ids[v["VolumeId"]] = "<volume>"
    return ids


def client(port, region):
    return boto3.client("ec2", endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
                        aws_access_key_id="kiln-moto-key", aws_secret_access_key="kiln-moto-secret")


def main():
    args = sys.argv[1:]
    if "--baseline" in args:
        args.remove("--baseline")
        port, regions = args[0], args[1:]
        ids = [i for r in regions for i in own_snapshot_ids(port, r, set())]
        print(json.dumps(sorted(ids)))
        return
    port, regions = args[0], args[1:]
    baseline = set()
    if os.environ.get("BASELINE"):
        with open(os.environ["BASELINE"]) as f:
            baseline = set(json.load(f))
    out, ids = {}, {}
    for region in regions:
        ec2 = client(port, region)
        new = own_snapshot_ids(port, region, baseline)
        ids.update(made_ids(ec2, new))
        out[region] = region_state(ec2, new)
    text = json.dumps(out, indent=1, sort_keys=True)
    if ids:
        text = re.sub("|".join(map(re.escape, sorted(ids, key=len, reverse=True))), lambda m: ids[m.group(0)], text)
    print(text)


if __name__ == "__main__":
    main()
