{{- define "dianshu.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dianshu.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "dianshu.secretName" -}}
{{- if .Values.secrets.existingSecret -}}{{ .Values.secrets.existingSecret }}{{- else -}}{{ include "dianshu.fullname" . }}{{- end -}}
{{- end -}}

{{- define "dianshu.jwksName" -}}
{{- if .Values.jwks.existingConfigMap -}}{{ .Values.jwks.existingConfigMap }}{{- else -}}{{ include "dianshu.fullname" . }}-jwks{{- end -}}
{{- end -}}

{{/* Environment shared by the API and the workers: the runtime role only, never the owner. */}}
{{- define "dianshu.runtimeEnv" -}}
- name: APP_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: APP_DATABASE_URL}}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: APP_DATABASE_URL}}
{{- if .Values.secrets.amqpUrl }}
- name: AMQP_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: AMQP_URL}}
{{- else }}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: REDIS_URL}}
{{- end }}
- name: DIANSHU_JWT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_JWT_SECRET, optional: true}}
- name: DIANSHU_METRICS_TOKEN
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_METRICS_TOKEN, optional: true}}
- name: DIANSHU_PORTAL_SESSION_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_PORTAL_SESSION_SECRET, optional: true}}
- name: DIANSHU_OIDC_CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_OIDC_CLIENT_SECRET, optional: true}}
{{- end -}}
