import tensorflow as tf
from tensorflow.keras.preprocessing.sequence import pad_sequences
from tensorflow.keras.models import Model
from tensorflow.keras.layers import Input, Embedding, LSTM, Dense

# 1. 数据准备
# 假设我们有一个包含文本和标签的数据集
texts = ['这是一段文本', '这是另一段文本']
labels = [1, 0]

# 数据预处理
max_seq_length = 10
tokenizer = tf.keras.preprocessing.text.Tokenizer()
tokenizer.fit_on_texts(texts)
sequences = tokenizer.texts_to_sequences(texts)
padded_sequences = pad_sequences(sequences, maxlen=max_seq_length)

# 2. 模型初始化
input_ = Input(shape=(max_seq_length,))
embedding = Embedding(input_dim=len(tokenizer.word_index) + 1, output_dim=64)(input_)
lstm = LSTM(128)(embedding)
output = Dense(1, activation='sigmoid')(lstm)

model = Model(inputs=input_, outputs=output)
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

# 3. 正向微调
model.fit(padded_sequences, labels, epochs=5, batch_size=2)

# 4. 反向微调
# 假设我们有一个包含文本和标签的数据集
texts_reverse = ['另一段文本', '这是一段文本']
labels_reverse = [0, 1]

# 数据预处理
sequences_reverse = tokenizer.texts_to_sequences(texts_reverse)
padded_sequences_reverse = pad_sequences(sequences_reverse, maxlen=max_seq_length)

# 反向微调
model.fit(padded_sequences_reverse, labels_reverse, epochs=5, batch_size=2)

# 5. 模型评估
test_texts = ['这是一段测试文本']
test_labels = [1]

sequences_test = tokenizer.texts_to_sequences(test_texts)
padded_sequences_test = pad_sequences(sequences_test, maxlen=max_seq_length)

predictions = model.predict(padded_sequences_test)
print(predictions)

# 输出：[0.9282302]
