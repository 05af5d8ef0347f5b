# The seed's Flask-SocketIO app (shared/seeds/000), reproduced as the reference
# Python peer. Only the start-up differs: the port comes from argv[1], it binds
# 127.0.0.1 and runs without the debug reloader.
#   usage: python seed_app.py PORT

# flaskのwebsocketを用いたサンプルコード
# アイコンのパスが通ってない

import sys

from flask import Flask, render_template, request,url_for
from flask_socketio import SocketIO, send, emit

app = Flask(__name__)
app.config['SECRET_KEY'] = 'secret!'

# cors_allowed_originは本来適切に設定するべき
socketio = SocketIO(app, cors_allowed_origins='*')

# ユーザー数
user_count = 0
# 現在のテキスト
text = ""

@app.route('/')
def index():
    return render_template('index.html')

# ユーザーが新しく接続すると実行
@socketio.on('connect')
def connect(auth):
    global user_count, text
    user_count += 1
    # 接続者数の更新（全員向け）
    emit('count_update', {'user_count': user_count}, broadcast=True)
    # テキストエリアの更新
    emit('text_update', {'text': text})


# ユーザーの接続が切断すると実行
@socketio.on('disconnect')
def disconnect():
    global user_count
    user_count -= 1
    # 接続者数の更新（全員向け）
    emit('count_update', {'user_count': user_count}, broadcast=True)


# テキストエリアが変更されたときに実行
@socketio.on('text_update_request')
def text_update_request(json):
    global text
    text = json["text"]
    # 変更をリクエストした人以外に向けて送信する
    # 全員向けに送信すると入力の途中でテキストエリアが変更されて日本語入力がうまくできない
    emit('text_update', {'text': text}, broadcast=True, include_self=False)

@socketio.on("send_notification_request")
def send_notification(json):
    msg = json["text"]
    num = json["num"]
    emit("send_notification",
         {"title":msg,
          "body":"this is push notification.",
          "icon":"images/icon.png",
          "tag":"",
          "data1":num
          },
         broadcast=True)

if __name__ == '__main__':
    # 本番環境ではeventletやgeventを使うらしいが簡単のためデフォルトの開発用サーバーを使う
    # (seed: socketio.run(app, debug=True))
    port = int(sys.argv[1])
    socketio.run(app, host='127.0.0.1', port=port, allow_unsafe_werkzeug=True)
