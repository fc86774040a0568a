#!/usr/bin/env python3
"""Writes a layer's worth of language packages, laid out as pip, npm and Maven leave them, into
the directory named by argv[1]. The metadata follows each ecosystem's real file formats."""
import os
import sys
import zipfile

root = sys.argv[1]


def write(path, text):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)


site = "/usr/local/lib/python3.11/site-packages"
for name, version, license_line in [
    ("requests", "2.31.0", "License: Apache 2.0"),
    ("urllib3", "2.0.7", "License-Expression: MIT"),
    ("charset_normalizer", "3.3.2", "License: MIT"),
]:
    dist = f"{site}/{name}-{version}.dist-info"
    write(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\nSummary: {name}\n{license_line}\nRequires-Python: >=3.7\n\n{name} long description.\n")
    write(f"{dist}/RECORD", f"{name}/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n{dist.rsplit('/', 1)[1]}/METADATA,,\n")
    write(f"{dist}/top_level.txt", f"{name}\n")
    write(f"{site}/{name}/__init__.py", "")
write(f"{site}/certifi-2023.7.22-py3.11.egg-info/PKG-INFO", "Metadata-Version: 1.1\nName: certifi\nVersion: 2023.7.22\nLicense: MPL-2.0\n")

modules = "/srv/app/node_modules"
write("/srv/app/package.json", '{\n  "name": "shop-frontend",\n  "version": "1.4.0",\n  "private": true,\n  "dependencies": {"express": "^4.18.2"}\n}\n')
for path, name, version, license in [
    (f"{modules}/express", "express", "4.18.2", '"MIT"'),
    (f"{modules}/express/node_modules/debug", "debug", "2.6.9", '"MIT"'),
    (f"{modules}/@types/node", "@types/node", "20.10.5", '"MIT"'),
    (f"{modules}/qs", "qs", "6.11.0", '"BSD-3-Clause"'),
]:
    write(f"{path}/package.json", f'{{\n  "name": "{name}",\n  "version": "{version}",\n  "license": {license},\n  "main": "index.js"\n}}\n')

jar = os.path.join(root, "opt/service/lib/commons-lang3-3.12.0.jar")
os.makedirs(os.path.dirname(jar), exist_ok=True)
with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.commons.lang3\r\nImplementation-Title: Apache Commons Lang\r\nImplementation-Version: 3.12.0\r\nImplementation-Vendor: The Apache Software Foundation\r\n\r\n")
    archive.writestr("META-INF/maven/org.apache.commons/commons-lang3/pom.properties", "artifactId=commons-lang3\ngroupId=org.apache.commons\nversion=3.12.0\n")
    archive.writestr("org/apache/commons/lang3/StringUtils.class", b"\xca\xfe\xba\xbe")
