{{- define "palisade.name" -}}palisade-admission{{- end -}}

{{- define "palisade.labels" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/component: admission
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "palisade.selector" -}}
app.kubernetes.io/name: palisade
app.kubernetes.io/component: admission
{{- end -}}
